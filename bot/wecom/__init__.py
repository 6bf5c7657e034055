"""WeChat 微信客服 (WeCom Customer Service): the callback's crypto and the HTTP API client."""
