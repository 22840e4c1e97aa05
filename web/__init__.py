"""The top of the house: what composes several apps — the home page, the navigation, the
demo portfolio (``seed_demo``) and ``run_embedded``. Nothing imports it but the project's
URLs and settings."""
