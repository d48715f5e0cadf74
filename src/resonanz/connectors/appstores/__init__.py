"""App store reviews: Google Play (Android Publisher API) and the Apple App Store (RSS feed + App Store Connect API)."""
