"""Alert rules, detectors (spike, negative surge, influencer, keyword, crisis), backtests."""
