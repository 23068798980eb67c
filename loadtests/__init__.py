"""Load tests: locust user classes, a fast webhook sink and the load-run report."""
