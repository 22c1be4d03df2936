"""Prompt templates, one Jinja file per prompt; shipped inside the wheel."""
