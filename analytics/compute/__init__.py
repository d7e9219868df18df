"""What is computed: the metric registry, its named SQL queries, coverage and the objection cohort rules."""
