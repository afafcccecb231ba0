"""The Bonjoro API v2 client (auto-refreshing auth, retries) and the endpoint catalog."""
