"""payments: authorizing, capturing and refunding what orders cost."""
