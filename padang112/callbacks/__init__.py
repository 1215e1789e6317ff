"""The callback list: callers who hung up before a call taker answered, called back over their own carrier."""
