"""postback-kit: a mock partner server and contract-test kit for the Postback API."""
