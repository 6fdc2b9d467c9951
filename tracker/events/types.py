"""The kinds of event the log holds and their Chinese names: the one place that says what an event
type is called, for the pages (总览's 本周动态), the API and the CLI."""

from __future__ import annotations

from enum import Enum


class EventType(str, Enum):
    task_created = "task.created"
    task_accepted = "task.accepted"
    task_progress = "task.progress"
    task_submitted = "task.submitted"
    task_verified = "task.verified"
    task_returned = "task.returned"
    task_withdrawn = "task.withdrawn"
    task_reopened = "task.reopened"
    task_resolved_by_data = "task.resolved_by_data"
    task_due_changed = "task.due_changed"
    # issue 12 §2–3: deadlines that move, work that is shared or split
    task_extension_requested = "task.extension_requested"
    task_extension_approved = "task.extension_approved"
    task_extension_refused = "task.extension_refused"
    task_transferred = "task.transferred"
    task_split = "task.split"
    task_cooperator_reported = "task.cooperator_reported"
    task_cooperator_chased = "task.cooperator_chased"
    task_edited = "task.edited"  # the office changed a task it assigned (issue 12)
    evidence_added = "evidence.added"
    submission_imported = "submission.imported"
    submission_received = "submission.received"
    submission_approved = "submission.approved"
    submission_returned = "submission.returned"
    assessment_completed = "assessment.completed"
    county_input_set = "county_input.set"
    phase_gate_passed = "phase.gate_passed"
    phase_activated = "phase.activated"
    review_opened = "review.opened"
    review_verdict = "review.verdict"
    review_findings = "review.findings"  # older logs
    review_findings_added = "review.findings_added"
    campaign_created = "campaign.created"
    campaign_updated = "campaign.updated"
    calendar_imported = "calendar.imported"
    briefing_due = "briefing.due"
    briefing_issued = "briefing.issued"
    appraisal_notice_issued = "appraisal.notice_issued"  # 通报表扬 / 通报批评 (issue 12 §7)
    report_text_set = "report.text_set"
    report_text_cleared = "report.text_cleared"
    materials_checklist_imported = "materials.checklist_imported"  # issue 13 §4
    materials_evidence_tagged = "materials.evidence_tagged"
    materials_evidence_untagged = "materials.evidence_untagged"
    conditions_cv_history_imported = "conditions.cv_history_imported"  # issue 13 §5
    # the 示范校 programme (issue 15 §1)
    programme_created = "programme.created"
    programme_nominated = "programme.nominated"
    programme_applied = "programme.applied"
    programme_reviewed = "programme.reviewed"
    programme_publicity_opened = "programme.publicity_opened"
    programme_objection_raised = "programme.objection_raised"
    programme_objection_resolved = "programme.objection_resolved"
    programme_removed_from_list = "programme.removed_from_list"
    programme_result_withdrawn = "programme.result_withdrawn"
    programme_scored = "programme.scored"
    programme_promoted = "programme.promoted"
    programme_paired = "programme.paired"
    programme_pairing_reported = "programme.pairing_reported"
    programme_awards_computed = "programme.awards_computed"
    programme_award_confirmed = "programme.award_confirmed"
    programme_award_revoked = "programme.award_revoked"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS: dict[EventType, str] = {
    EventType.task_created: "新建任务",
    EventType.task_accepted: "签收",
    EventType.task_progress: "报告进度",
    EventType.task_submitted: "提交",
    EventType.task_verified: "销号",
    EventType.task_returned: "退回",
    EventType.task_withdrawn: "撤销",
    EventType.task_reopened: "重新打开",
    EventType.task_resolved_by_data: "数据已达标",
    EventType.task_due_changed: "调整截止日期",
    EventType.task_extension_requested: "申请延期",
    EventType.task_extension_approved: "同意延期",
    EventType.task_extension_refused: "不同意延期",
    EventType.task_transferred: "转办",
    EventType.task_split: "分解任务",
    EventType.task_cooperator_reported: "配合单位报告进展",
    EventType.task_cooperator_chased: "催办配合单位",
    EventType.task_edited: "调整任务",
    EventType.evidence_added: "上传佐证材料",
    EventType.submission_imported: "导入学校数据",
    EventType.submission_received: "学校报送数据",
    EventType.submission_approved: "数据审核通过",
    EventType.submission_returned: "数据退回",
    EventType.assessment_completed: "完成评估",
    EventType.county_input_set: "录入县级指标",
    EventType.phase_gate_passed: "阶段通过关口",
    EventType.phase_activated: "进入新阶段",
    EventType.review_opened: "开始评估",
    EventType.review_verdict: "录入评估结论",
    EventType.review_findings: "录入反馈问题",
    EventType.review_findings_added: "录入反馈问题",
    EventType.campaign_created: "创建工作方案",
    EventType.campaign_updated: "更新工作方案",
    EventType.calendar_imported: "导入节假日安排",
    EventType.briefing_due: "调度通报待印发",
    EventType.briefing_issued: "印发调度通报",
    EventType.appraisal_notice_issued: "印发考核通报",
    EventType.report_text_set: "填写自评报告文字",
    EventType.report_text_cleared: "清除自评报告文字",
    EventType.materials_checklist_imported: "导入资料清单",
    EventType.materials_evidence_tagged: "标注佐证材料对应的资料项",
    EventType.materials_evidence_untagged: "取消佐证材料的资料项标注",
    EventType.conditions_cv_history_imported: "导入差异系数历史",
    EventType.programme_created: "建立示范校项目",
    EventType.programme_nominated: "圈定标杆种子校",
    EventType.programme_applied: "学校申请",
    EventType.programme_reviewed: "复核申请",
    EventType.programme_publicity_opened: "公示",
    EventType.programme_objection_raised: "提出异议",
    EventType.programme_objection_resolved: "处理异议",
    EventType.programme_removed_from_list: "异议成立，移出标杆种子校名单",
    EventType.programme_result_withdrawn: "结果公示期间异议成立，撤销该校本轮结果",
    EventType.programme_scored: "评审打分",
    EventType.programme_promoted: "遴选导师型学校",
    EventType.programme_paired: "结对帮扶",
    EventType.programme_pairing_reported: "报告帮扶进展",
    EventType.programme_awards_computed: "评选表彰类别",
    EventType.programme_award_confirmed: "确认表彰",
    EventType.programme_award_revoked: "撤销表彰确认",
}

OTHER_EVENT = "其他变动"


def event_label(event_type: str) -> str:
    """The Chinese name of an event type; 其他变动 for a type this version does not know (a newer
    one in a shared log), never the raw code."""
    try:
        return EventType(event_type).label
    except ValueError:
        return OTHER_EVENT
