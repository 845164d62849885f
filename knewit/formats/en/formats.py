"""English as the report has always shown it ("4 Dec 2026, 04:10"); Spanish, French and German use
Django's own formats (e.g. "4 décembre 2026 04:10", "4. Dezember 2026 04:10")."""

DATETIME_FORMAT = "j M Y, H:i"
