"""Facebook Page and Instagram professional account comments through the Graph API."""
