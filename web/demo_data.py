"""The demo portfolio's words: company names, sectors, cities, people, roles, suppliers
and timeline notes (Brazil, Mexico and Chile), and how the index-th client is named."""

from __future__ import annotations

from clients.models import Country, EntryKind, Legacy, Segment

STEMS = (
    "Aurora",
    "Horizonte",
    "Pampa",
    "Andes",
    "Paraná",
    "Cerrado",
    "Pacífico",
    "Atlântico",
    "Sol Nascente",
    "Tropical",
    "Cordillera",
    "Amazônia",
    "Ipê",
    "Jacarandá",
    "Guaraní",
    "Patagonia",
    "Caribe",
    "Serra Azul",
    "Vale Verde",
    "Itapuã",
    "Mantiqueira",
    "Araucária",
    "Solimões",
    "Pantanal",
    "Altiplano",
    "Tierra Firme",
    "Nova Era",
    "Estrela do Sul",
    "Cruzeiro",
    "Rio Claro",
    "Bahia Sul",
    "Litoral",
    "Meridiano",
    "Alvorada",
    "Condor",
    "Quetzal",
    "Maracanã",
    "Capibaribe",
    "Tocantins",
    "Iguaçu",
    "Atacama",
    "Orinoco",
    "Magdalena",
    "Titicaca",
    "Chapada",
    "Borborema",
    "Planalto",
    "Aconcágua",
    "Mar del Plata",
    "Yucatán",
    "Sierra Madre",
    "Canela",
    "Gaúcha",
    "Carioca",
    "Paulista",
    "Mineira",
    "Potiguar",
    "Capixaba",
    "Andina",
    "Austral",
)

# Sector word → segment: the name says what the client does.
SECTORS = (
    ("Banco", Segment.BANKING, "{sector} {stem}"),
    ("Seguros", Segment.INSURANCE, "{stem} {sector}"),
    ("Telecom", Segment.TELECOM, "{stem} {sector}"),
    ("Energia", Segment.UTILITIES, "{stem} {sector}"),
    ("Varejo", Segment.RETAIL, "{stem} {sector}"),
    ("Saúde", Segment.HEALTHCARE, "{stem} {sector}"),
    ("Linhas Aéreas", Segment.TRAVEL, "{stem} {sector}"),
    ("Financiera", Segment.BANKING, "{sector} {stem}"),
    ("Comunicaciones", Segment.TELECOM, "{stem} {sector}"),
    ("Supermercados", Segment.RETAIL, "{sector} {stem}"),
    ("Saneamento", Segment.UTILITIES, "{stem} {sector}"),
    ("Previdência", Segment.INSURANCE, "{stem} {sector}"),
    ("Educacional", Segment.EDUCATION, "Grupo {stem} {sector}"),
    ("Cartões", Segment.BANKING, "{stem} {sector}"),
    ("Farmácias", Segment.RETAIL, "{sector} {stem}"),
    ("Secretaria de Atendimento", Segment.PUBLIC, "{sector} {stem}"),
    ("Logística", Segment.OTHER, "{stem} {sector}"),
)

CITIES = (
    ("São Paulo", Country.BRAZIL),
    ("Campinas", Country.BRAZIL),
    ("Curitiba", Country.BRAZIL),
    ("Recife", Country.BRAZIL),
    ("Porto Alegre", Country.BRAZIL),
    ("Salvador", Country.BRAZIL),
    ("Belo Horizonte", Country.BRAZIL),
    ("Fortaleza", Country.BRAZIL),
    ("Goiânia", Country.BRAZIL),
    ("Manaus", Country.BRAZIL),
    ("Buenos Aires", Country.ARGENTINA),
    ("Córdoba", Country.ARGENTINA),
    ("Rosario", Country.ARGENTINA),
    ("Santiago", Country.CHILE),
    ("Valparaíso", Country.CHILE),
    ("Bogotá", Country.COLOMBIA),
    ("Medellín", Country.COLOMBIA),
    ("Cali", Country.COLOMBIA),
    ("Ciudad de México", Country.MEXICO),
    ("Monterrey", Country.MEXICO),
    ("Guadalajara", Country.MEXICO),
    ("Lima", Country.PERU),
    ("Arequipa", Country.PERU),
    ("Montevideo", Country.URUGUAY),
    ("Asunción", Country.PARAGUAY),
    ("Quito", Country.ECUADOR),
    ("Guayaquil", Country.ECUADOR),
    ("Madrid", Country.SPAIN),
    ("Lisboa", Country.PORTUGAL),
    ("Miami", Country.UNITED_STATES),
)

FIRST_NAMES = (
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Eduarda",
    "Felipe",
    "Gabriela",
    "Henrique",
    "Isabel",
    "João",
    "Karina",
    "Leonardo",
    "Mariana",
    "Nicolás",
    "Olívia",
    "Pablo",
    "Renata",
    "Santiago",
    "Tatiana",
    "Valentina",
    "Wagner",
    "Ximena",
    "Yasmin",
    "Camila",
    "Mateo",
    "Sofía",
    "Thiago",
    "Fernanda",
    "Alejandro",
    "Beatriz",
)
LAST_NAMES = (
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Pereira",
    "Lima",
    "Carvalho",
    "Ribeiro",
    "Almeida",
    "González",
    "Rodríguez",
    "Martínez",
    "López",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
    "Castro",
    "Rojas",
    "Vargas",
    "Mendes",
    "Barbosa",
    "Cardoso",
    "Rocha",
)
STAKEHOLDER_ROLES = (
    "Diretor(a) de Atendimento",
    "Gerente de Cobrança",
    "Head de Customer Experience",
    "Compras / Procurement",
    "Gerente de Contratos",
    "Director de Operaciones",
    "Jefe de Calidad",
    "CFO",
    "Gerente de TI",
    "Analista de Performance",
)
SUPPLIERS = (
    "Contacta BPO",
    "Atende Mais",
    "CallPro Servicios",
    "Conecta Contact Center",
    "Recupera Cobranças",
    "Voz Ativa",
    "Soluciones Andinas BPO",
    "Prime Atendimento",
    "Global Back Office",
    "Centro Diálogo",
)
LEGACY_TEXTS = {
    Legacy.CONTRACT_CLAUSE: "Multa por SLA diário e auditoria mensal de todas as faturas.",
    Legacy.DEFENSIVE_BEHAVIOUR: "Exige aprovação prévia de qualquer mudança de script.",
    Legacy.BOTH: "Cláusula de penalidade agressiva e reuniões semanais de cobrança de resultados.",
}
TIMELINE_TEMPLATES = (
    (EntryKind.NOTE, "Reunião de alinhamento mensal", "Cliente pediu visão por canal."),
    (EntryKind.NOTE, "Visita à operação", "Levamos o sponsor para ouvir ligações ao vivo."),
    (
        EntryKind.CONFLICT,
        "Divergência sobre meta de TMA",
        "Cliente quer TMA menor sem rever script.",
    ),
    (
        EntryKind.ESCALATION,
        "Escalonamento de reclamações no Reclame Aqui",
        "Pico após mudança de régua.",
    ),
    (
        EntryKind.POSITION_TAKEN,
        "Dissemos que a meta de conversão era irreal",
        "Mostramos a série histórica; o cliente aceitou revisar.",
    ),
    (
        EntryKind.POSITION_TAKEN,
        "Recomendamos não cortar o treinamento inicial",
        "Apresentamos o impacto em qualidade das turmas anteriores.",
    ),
)


LEGAL_SUFFIX = {Country.BRAZIL: "Ltda.", Country.MEXICO: "S.A. de C.V.", Country.CHILE: "SpA"}


def demo_client_name(index: int) -> tuple[str, Segment, Country]:
    """The index-th demo client's name, segment and country: unique and deterministic."""
    # Sectors first: a small demo already shows every segment (and the heatmap a row
    # for each), instead of a bank for each of the first stems.
    sector, segment, pattern = SECTORS[index % len(SECTORS)]
    stem = STEMS[(index // len(SECTORS)) % len(STEMS)]
    round_ = index // (len(STEMS) * len(SECTORS))
    name = pattern.format(stem=stem, sector=sector)
    city, country = CITIES[(index * 7) % len(CITIES)]
    if round_:
        city, country = CITIES[(round_ - 1) % len(CITIES)]
        suffix = f" {city}" if round_ <= len(CITIES) else f" {city} {round_}"
        name += suffix
    return name, segment, country
