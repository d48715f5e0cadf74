"""SMS and WhatsApp through Twilio: inbound webhook (form-encoded, signed), replies via the Messages API."""
