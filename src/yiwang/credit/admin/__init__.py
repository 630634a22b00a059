"""Admin of 公共信用 and 双随机: each part registers its models in its own module."""
