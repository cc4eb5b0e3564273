"""reviews subgraph: customer reviews, moderation and ratings."""
