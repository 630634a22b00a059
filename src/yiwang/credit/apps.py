from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "yiwang.credit"
    label = "credit"
    verbose_name = "公共信用与双随机监管"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The credit check inside the approvals (cases.hooks.credit_check), the case listener that writes the
        # platform's own records (a pledge found false, an overdue 容缺 promise), the case-page panels and the
        # 我的工作台 sources register themselves here.
        from . import wiring

        wiring.connect()
