"""Server-rendered HTML pages (booking, manage): forms over the same services as the JSON API."""
