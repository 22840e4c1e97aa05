"""Every write of the assessments app: questionnaire authoring (``questionnaires``), the
assessment life cycle (``assessments``) and its answers (``answers``). Import from here."""

from assessments.services.answers import (
    AnswerInput,
    AnswerProblem,
    AnswersRefused,
    Autosaved,
    answer_autosave,
    answer_problem,
    answers_save,
)
from assessments.services.assessments import (
    AssessmentNotEditable,
    MissingAnswers,
    as_written,
    assessment_review,
    assessment_start,
    assessment_submit,
    evidence_from,
    may_edit,
    sheet_start,
    version_to_start,
)
from assessments.services.imports import assessment_import
from assessments.services.questionnaires import (
    DocumentProblems,
    questionnaire_set_default,
    version_copy_to_draft,
    version_export,
    version_import,
    version_publish,
    version_replace_content,
    version_tune,
)

__all__ = [
    "AnswerInput",
    "AnswerProblem",
    "AnswersRefused",
    "AssessmentNotEditable",
    "Autosaved",
    "DocumentProblems",
    "MissingAnswers",
    "answer_autosave",
    "answer_problem",
    "answers_save",
    "as_written",
    "assessment_import",
    "assessment_review",
    "assessment_start",
    "assessment_submit",
    "evidence_from",
    "may_edit",
    "questionnaire_set_default",
    "sheet_start",
    "version_copy_to_draft",
    "version_export",
    "version_import",
    "version_publish",
    "version_replace_content",
    "version_to_start",
    "version_tune",
]
