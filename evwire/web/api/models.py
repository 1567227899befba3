"""Pydantic request and response models of the JSON API (typed, so /openapi.json describes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evwire.store.channels import ChannelCount, ChannelInfo
from evwire.store.queries import ArticleCard, ArticleView
from evwire.store.search import SearchHit


class ChannelRefOut(BaseModel):
    slug: str
    name: str


class ArticleSummaryOut(BaseModel):
    id: int
    title: str
    url: str | None
    source_name: str | None
    published: datetime
    about: list[ChannelRefOut]
    mentioned: list[ChannelRefOut]
    links: dict[str, str] = Field(description="html: the article page; api: this resource")

    @classmethod
    def of(cls, card: ArticleCard) -> ArticleSummaryOut:
        return cls(
            id=card.id,
            title=card.title,
            url=card.url,
            source_name=card.source_name,
            published=card.published_at,
            about=[ChannelRefOut(slug=c.slug, name=c.name) for c in card.about],
            mentioned=[ChannelRefOut(slug=c.slug, name=c.name) for c in card.mentioned],
            links={"html": f"/articles/{card.id}", "api": f"/api/articles/{card.id}"},
        )


class ArticlePageOut(BaseModel):
    items: list[ArticleSummaryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class TickerOut(BaseModel):
    exchange: str
    symbol: str
    company: str | None = Field(description="slug of the company's channel, if known")


class PersonOut(BaseModel):
    name: str
    role: str | None
    company: str | None


class ArticleOut(ArticleSummaryOut):
    bullets: list[str]
    body: str
    image_url: str | None
    image_caption: str | None
    image_credit: str | None
    updated: datetime
    tickers: list[TickerOut]
    people: list[PersonOut]

    @classmethod
    def of_view(cls, view: ArticleView) -> ArticleOut:
        base = ArticleSummaryOut.of(view.card).model_dump()
        return cls(
            **base,
            bullets=view.bullets,
            body=view.body,
            image_url=view.image_url,
            image_caption=view.image_caption,
            image_credit=view.image_credit,
            updated=view.updated_at,
            tickers=[
                TickerOut(exchange=t.exchange, symbol=t.symbol, company=t.channel.slug if t.channel else None)
                for t in view.tickers
            ],
            people=[
                PersonOut(name=p.name, role=p.role, company=p.channel.slug if p.channel else None)
                for p in view.people
            ],
        )


class PostedArticleOut(BaseModel):
    created: bool = Field(description="false when an article with the same URL or content was updated")
    article: ArticleOut


class ChannelSummaryOut(BaseModel):
    slug: str
    name: str
    kind: str
    country: str | None
    about_count: int
    mentioned_count: int

    @classmethod
    def of(cls, c: ChannelCount) -> ChannelSummaryOut:
        return cls(
            slug=c.slug,
            name=c.name,
            kind=c.kind,
            country=c.country,
            about_count=c.about_count,
            mentioned_count=c.mentioned_count,
        )


class PersonRoleOut(BaseModel):
    name: str
    role: str


class ChannelOut(BaseModel):
    slug: str
    name: str
    kind: str
    country: str | None
    website: str | None
    aliases: list[str]
    tickers: list[str]
    people: list[PersonRoleOut]
    products: list[str]
    parent: ChannelRefOut | None
    children: list[ChannelRefOut]
    about_count: int
    mentioned_count: int
    links: dict[str, str]

    @classmethod
    def of(cls, c: ChannelInfo) -> ChannelOut:
        return cls(
            slug=c.slug,
            name=c.name,
            kind=c.kind,
            country=c.country,
            website=c.website,
            aliases=c.aliases,
            tickers=c.tickers,
            people=[PersonRoleOut(name=n, role=r) for n, r in c.people],
            products=c.products,
            parent=ChannelRefOut(slug=c.parent.slug, name=c.parent.name) if c.parent else None,
            children=[ChannelRefOut(slug=r.slug, name=r.name) for r in c.children],
            about_count=c.about_count,
            mentioned_count=c.mentioned_count,
            links={
                "html": f"/channels/{c.slug}",
                "articles": f"/api/channels/{c.slug}/articles",
                "rss": f"/channels/{c.slug}/feed.rss",
                "atom": f"/channels/{c.slug}/feed.atom",
            },
        )


class SearchHitOut(ArticleSummaryOut):
    snippet: str = Field(description="plain text around the matches")

    @classmethod
    def of_hit(cls, hit: SearchHit) -> SearchHitOut:
        return cls(**ArticleSummaryOut.of(hit.card).model_dump(), snippet="".join(t for t, _ in hit.snippet))


class SearchOut(BaseModel):
    query: str
    items: list[SearchHitOut]
    next_offset: int | None


class ArticleIn(BaseModel):
    """An article to post. ``text`` and ``body`` are the same field (plain text, blank lines between
    paragraphs); HTML tags in it are stripped (nh3). Unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=1000)
    text: str | None = None
    body: str | None = None
    bullets: list[str] = Field(default_factory=list, max_length=50)
    url: str | None = Field(default=None, max_length=2000)
    published: datetime | None = None
    image_url: str | None = Field(default=None, max_length=2000)
    image_caption: str | None = Field(default=None, max_length=2000)
    image_credit: str | None = Field(default=None, max_length=500)
    source_name: str | None = Field(default=None, max_length=200)

    @field_validator("url", "image_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value or None

    @model_validator(mode="after")
    def _one_text(self) -> ArticleIn:
        if self.text and self.body and self.text != self.body:
            raise ValueError("give the article text as either 'text' or 'body', not both")
        if not (self.text or self.body or self.bullets):
            raise ValueError("the article has no text: give 'text' (or 'body')")
        return self

    @property
    def content(self) -> str:
        return self.text or self.body or ""


class MentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["about", "mentioned", "excluded"]


class ErrorOut(BaseModel):
    detail: str | list[dict]
