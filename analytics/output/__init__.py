"""What goes out: chart builders, the weekly briefing, downloads, escaping for each sink and generated docs."""
