"""``python -m approval.check <connection> --url https://<gateway>``: does the vendor's own URL
verification against the approval service, with the connection's keys, as the vendor's console
does when its callback URL is saved: an OA administrator's test of the connection before the
vendor tries it.

- DingTalk: an encrypted ``check_url`` event; the answer must be ``success``, encrypted and
  signed with the same keys.
- Feishu: an encrypted ``url_verification`` with a random challenge; the answer must echo it.
- WeCom: the GET with an encrypted ``echostr``; the answer must be the plaintext.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys

import httpx

from approval.settings import ApprovalSettings
from approval.vendors.connection import VendorConnection
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.posts import dingtalk_post, feishu_post, wecom_url_check
from approval.vendors.refusals import CallbackRefused


class CheckFailed(Exception):
    """The service did not answer as the vendor requires: says what it answered."""


async def check(http: httpx.AsyncClient, connection: str, config: VendorConnection) -> str:
    """What the check did, once the service answered as the vendor requires."""
    url, probe = f"/v1/oa/{config.vendor}/{connection}", secrets.token_hex(8)
    if config.vendor == "feishu":
        assert config.encrypt_key and config.verification_token
        feishu = FeishuCrypt(config.encrypt_key.get_secret_value())
        challenge = {
            "challenge": probe,
            "token": config.verification_token.get_secret_value(),
            "type": "url_verification",
        }
        r = await http.post(url, content=feishu_post(feishu, challenge, sign=False).body)
        _expect(r, r.status_code == 200 and _json(r).get("challenge") == probe)
        return f"Feishu url_verification answered with its challenge at {url}"
    assert config.token and config.aes_key and config.receiver_id
    crypt = MessageCrypt(
        config.token.get_secret_value(), config.aes_key.get_secret_value(), config.receiver_id
    )
    if config.vendor == "wecom":
        r = await http.get(url, params=wecom_url_check(crypt, probe.encode()))
        _expect(r, r.status_code == 200 and r.text == probe)
        return f"WeCom URL verification answered with the decrypted echostr at {url}"
    post = dingtalk_post(crypt, {"EventType": "check_url"})
    r = await http.post(url, params=post.query, content=post.body)
    reply = {k: str(v) for k, v in _json(r).items()}
    try:
        crypt.verify(reply["msg_signature"], reply["timeStamp"], reply["nonce"], reply["encrypt"])
        success = crypt.decrypt(reply["encrypt"]) == b"success"
    except (KeyError, CallbackRefused):
        success = False
    _expect(r, r.status_code == 200 and success)
    return f"DingTalk check_url answered with the encrypted, signed success at {url}"


def _json(r: httpx.Response) -> dict[str, object]:
    try:
        value = r.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _expect(r: httpx.Response, ok: bool) -> None:
    if not ok:
        raise CheckFailed(f"HTTP {r.status_code}: {r.text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("connection", help="the OA connection's name (AAP_APPROVAL_OA_VENDORS)")
    parser.add_argument("--url", required=True, help="the approval service, as the vendor sees it")
    args = parser.parse_args()
    config = ApprovalSettings().oa_vendors.get(args.connection)
    if config is None:
        sys.exit(f"no vendor connection {args.connection!r} in AAP_APPROVAL_OA_VENDORS")

    async def run() -> str:
        async with httpx.AsyncClient(base_url=args.url, timeout=10) as http:
            return await check(http, args.connection, config)

    try:
        print("ok:", asyncio.run(run()))
    except (CheckFailed, httpx.HTTPError) as failed:
        sys.exit(f"failed: {failed}")


if __name__ == "__main__":
    main()
