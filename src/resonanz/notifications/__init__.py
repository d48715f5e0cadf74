"""Outgoing notifications: e-mail (SMTP), signed webhooks and chat incoming webhooks."""
