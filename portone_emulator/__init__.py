"""A PortOne V2 stand-in for development and tests: the REST routes `portone-server-sdk` calls, answered in the
shapes the SDK parses, and webhooks signed the way the SDK's verifier (Standard Webhooks) checks them.

Independent of the portal like the provider sandbox: it imports nothing of the project. A plain WSGI app
(`portone_emulator.app:application`) keeping its payments in memory, served by one gunicorn worker.
"""
