"""The OA vendors' own callback protocols (钉钉 DingTalk, 企业微信 WeCom, 飞书 Feishu): their
signatures and encryption, exactly as each documents them. Pure code over bytes and strings."""
