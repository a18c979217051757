"""The overview ("Overblik"): aggregates of cases, answers, the engine's precision and the
organisations' wishes, with small numbers suppressed. Leaders see only this.

`metrics` computes the report with SQL aggregates, `suppress` hides small counts, `charts`
draws SVG from the report's tables and `views` serves the page and CSV exports.
"""
