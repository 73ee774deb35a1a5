"""The night's record: campaign, level transitions, decisions, run sheet, timeline; live or archived."""
