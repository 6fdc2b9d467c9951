"""Accounts for the web: users of a campaign with a role, their API tokens, and who may see and
change what (``access``)."""
