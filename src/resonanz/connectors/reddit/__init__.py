"""Reddit: subreddit posts and comments and search; replies to posts and comments (OAuth)."""
