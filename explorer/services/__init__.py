"""Work that joins the layers below for the front doors (CLI, window): analysing a song, scanning
folders, the analysis helper process (no Qt here)."""
