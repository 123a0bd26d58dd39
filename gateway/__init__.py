"""The HTTP gateway: authenticated partner accruals, member commands and member lookups."""
