"""Data quality: expectations compiled to SQL (one pass for row rules), their results,
the HTML report and table profiles."""
