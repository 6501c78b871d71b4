"""The shared StreamField block set of the shop's pages."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class HeroBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("제목"))
    text = blocks.TextBlock(label=_("설명"), required=False)

    class Meta:
        icon = "title"
        label = _("대표 문구")
        template = "cms_pages/blocks/hero.html"


class BenefitCardBlock(blocks.StructBlock):
    number = blocks.CharBlock(label=_("번호"), max_length=4, required=False)
    title = blocks.CharBlock(label=_("제목"))
    text = blocks.TextBlock(label=_("설명"))

    class Meta:
        icon = "pick"
        label = _("장점 카드")
        template = "cms_pages/blocks/benefit.html"


class StepBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("단계"))
    text = blocks.TextBlock(label=_("설명"), required=False)

    class Meta:
        icon = "list-ol"
        label = _("단계")


class FaqBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("질문"))
    answer = blocks.RichTextBlock(label=_("답변"), features=["bold", "italic", "link", "ol", "ul"])

    class Meta:
        icon = "help"
        label = _("자주 묻는 질문")
        template = "cms_pages/blocks/faq.html"


class PageBodyBlock(blocks.StreamBlock):
    hero = HeroBlock()
    paragraph = blocks.RichTextBlock(label=_("본문"), features=["h2", "h3", "bold", "italic", "link", "ol", "ul"])
    benefits = blocks.ListBlock(BenefitCardBlock(), label=_("장점 카드 목록"),
                                template="cms_pages/blocks/benefits.html")
    steps = blocks.ListBlock(StepBlock(), label=_("절차"), template="cms_pages/blocks/steps.html")
    faq = FaqBlock()
    image = ImageChooserBlock(label=_("이미지"), template="cms_pages/blocks/image.html")
