"""Every write of the assessments app: questionnaire authoring and the assessment life
cycle. Split in two modules; import from here."""

from assessments.services.assessments import (
    AnswerInput,
    AnswerProblem,
    AnswersRefused,
    AssessmentNotEditable,
    MissingAnswers,
    answers_save,
    assessment_review,
    assessment_start,
    assessment_submit,
    evidence_from,
    may_edit,
)
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
    "DocumentProblems",
    "MissingAnswers",
    "answers_save",
    "assessment_review",
    "assessment_start",
    "assessment_submit",
    "evidence_from",
    "may_edit",
    "questionnaire_set_default",
    "version_copy_to_draft",
    "version_export",
    "version_import",
    "version_publish",
    "version_replace_content",
    "version_tune",
]
