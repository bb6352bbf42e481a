"""Helpers shared by the tests, imported as `tests.support.<module>` (pytest puts the
repository root on the path: `pythonpath` in pyproject.toml).

    engine            the processes folder, a clerk, local instants
    store             cases and events made by hand for the store tests
    tamper            histories built and then forged, for the audit's tamper tests
    audit             the standard case walked through its steps, for audit and reports
    expr              the expression tests' names and environment
    plugins           engines with recording channels, for the plugin tests
    delivery_servers  real SMTP and HTTP receivers on 127.0.0.1
    examples          the example scripts, imported by path
"""
