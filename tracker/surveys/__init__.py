"""The satisfaction survey (满意度调查, issue 13 §3): questionnaires per respondent group, single-use
response codes for phones, paper sheets typed in by the office, and the results that give
indicator 32 (Hunan 36) its value unless the office enters one."""
