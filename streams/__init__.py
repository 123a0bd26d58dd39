"""The Faust application: topics, tables and thin agents around the `loyalty` core."""
