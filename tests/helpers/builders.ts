let counter = 0;

/** A valid CMS article payload; override any field. */
export function articleInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    externalId: `cms-${counter}`,
    title: `Council approves new cycle lanes ${counter}`,
    url: `https://news.example.co.uk/local/cycle-lanes-${counter}`,
    summary: 'The council voted 7-2 in favour of the scheme.',
    contentHtml: '<p>The council voted on Tuesday.</p><h2>What happens next</h2><p>Work starts in spring.</p>',
    authors: [{ name: 'Jane Reporter', email: 'jane@news.example.co.uk' }],
    categories: ['Local News'],
    tags: ['transport'],
    publishedAt: '2026-11-28T08:00:00Z',
    ...overrides,
  };
}
