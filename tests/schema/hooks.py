"""Schemathesis hooks for Ferric (loaded with SCHEMATHESIS_HOOKS=hooks from tests/schema).

- Every request is signed with FC's signature (`fcauth.FcAuth`, keys from FC_ACCESS_KEY_ID/SECRET), so the
  fuzzer reaches the handlers instead of stopping at 403.
- A generated `x-fc-account-id` is replaced by the signer's account (FC_ACCOUNT_ID): a random one only
  ever yields the same 403, and the point of the run is the shapes of the other answers.
"""

import os

import schemathesis

from fcauth import from_env

AUTH = from_env()
ACCOUNT = os.environ.get("FC_ACCOUNT_ID", "")


@schemathesis.hook
def before_call(ctx, case, kwargs):
    if case.headers:
        for name in list(case.headers):
            if name.lower() == "x-fc-account-id":
                case.headers[name] = ACCOUNT
    kwargs["auth"] = AUTH
