"""A school programme (示范校, issue 15 §1): a campaign of kind ``school-programme`` run beside the
county's campaign — nominate, apply, 复核, 公示, panel scoring, 1+X pairing and awards."""
