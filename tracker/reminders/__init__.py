"""The reminder ladder (交办 → 签收提醒 → 临期 → 到期 → 催办 → 督办), task and unit lights, the
sweep that queues what is owed, and the signed acknowledgement links.

- ``ladder``: pure — which rungs a task is owed at a moment and when the next one falls.
- ``lights``: pure — 绿/黄/红 per task and per unit (and a campaign's light rule from the store).
- ``recipients``: who receives each kind of rung of each unit.
- ``notices``: the owed notices (one per task and rung), their idempotency keys and payloads, the
  bulk inserts, the move of the tasks on.
- ``expand``: an owed notice into its recipients' items, when the composer finds its window open.
- ``report``: what a sweep says.
- ``sweep``: reads the tasks whose ``next_reminder_at`` has come, owes ``OwedNotice`` rows
  idempotently and moves ``next_reminder_at`` on.
- ``ack``: 签收 links signed with itsdangerous, made when a message is composed (the page is api/ack.py).
"""
