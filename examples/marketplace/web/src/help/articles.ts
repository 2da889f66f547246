// Help center content. Implements WBS-016 (scaffold).
// NT-0261 top questions, TD-0261 article search.

export interface Article {
  slug: string;
  title: string;
  body: string;
  views: number;
}

/** NT-0261: the ten most viewed articles, shown without login. */
export function topQuestions(articles: Article[], limit = 10): Article[] {
  return [...articles].sort((a, b) => b.views - a.views).slice(0, limit);
}

/** TD-0261: naive search until the article index exists; title hits rank first. */
export function searchArticles(articles: Article[], query: string): Article[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const inTitle = articles.filter((a) => a.title.toLowerCase().includes(q));
  const inBody = articles.filter((a) => !inTitle.includes(a) && a.body.toLowerCase().includes(q));
  return [...inTitle, ...inBody];
}
