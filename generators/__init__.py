"""Inputs the checklist's R2 and R3 checks need: forged JWTs and heavy invoice PDFs."""
