"""Sending channels: ``email`` (aiosmtplib, one connection per batch) and ``webhook`` (企业微信 / 钉钉 robots)."""
