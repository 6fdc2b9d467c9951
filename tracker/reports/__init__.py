"""The documents a county applies with (issue 13 §1–2): the 自评报告 and the 申报表 with its
基本情况表, assembled from the stored assessment (the snapshot), the tasks, the plan and the org,
plus the texts the office writes per section (``ReportText``). Nothing here invents prose: a
section without the office's text is the placeholder ``PLACEHOLDER``. Rendering to Word lives in
notifications.reports; the .xlsx of the 申报表 is written here through tracker.spreadsheets."""
