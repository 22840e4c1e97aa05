"""The REST API's shared parts: the one router, token authentication, errors, pagination."""
