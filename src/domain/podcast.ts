import { createHash } from 'node:crypto';
import type { Enclosure, FieldError, NormalizedArticle } from './article-input.js';

/**
 * Podcast settings of a category (Apple's required and recommended show tags) and of an episode.
 * Stored as JSON on the category / article; validated at the API edge.
 */
export interface PodcastConfig {
  author: string;
  ownerName: string;
  ownerEmail: string;
  /** Square artwork, JPEG or PNG, 1400–3000 px (Apple). */
  imageUrl: string;
  /** One of Apple's categories, e.g. "News". */
  itunesCategory: string;
  itunesSubcategory?: string;
  explicit: boolean;
  type: 'episodic' | 'serial';
  copyright?: string;
  /** podcast:locked — ask other platforms not to import the feed. */
  locked?: boolean;
}

export interface EpisodeInfo {
  episode?: number;
  season?: number;
  episodeType?: 'full' | 'trailer' | 'bonus';
  explicit?: boolean;
}

export const EPISODE_TYPES = ['full', 'trailer', 'bonus'] as const;

/**
 * Apple Podcasts categories and their subcategories (Apple Podcasts Connect, "Podcast categories").
 * `itunes:category text=` must be one of these, spelt exactly (the XML writer escapes the `&`).
 */
export const APPLE_CATEGORIES: Readonly<Record<string, readonly string[]>> = {
  Arts: ['Books', 'Design', 'Fashion & Beauty', 'Food', 'Performing Arts', 'Visual Arts'],
  Business: ['Careers', 'Entrepreneurship', 'Investing', 'Management', 'Marketing', 'Non-Profit'],
  Comedy: ['Comedy Interviews', 'Improv', 'Stand-Up'],
  Education: ['Courses', 'How To', 'Language Learning', 'Self-Improvement'],
  Fiction: ['Comedy Fiction', 'Drama', 'Science Fiction'],
  Government: [],
  History: [],
  'Health & Fitness': ['Alternative Health', 'Fitness', 'Medicine', 'Mental Health', 'Nutrition', 'Sexuality'],
  'Kids & Family': ['Education for Kids', 'Parenting', 'Pets & Animals', 'Stories for Kids'],
  Leisure: ['Animation & Manga', 'Automotive', 'Aviation', 'Crafts', 'Games', 'Hobbies', 'Home & Garden', 'Video Games'],
  Music: ['Music Commentary', 'Music History', 'Music Interviews'],
  News: ['Business News', 'Daily News', 'Entertainment News', 'News Commentary', 'Politics', 'Sports News', 'Tech News'],
  'Religion & Spirituality': ['Buddhism', 'Christianity', 'Hinduism', 'Islam', 'Judaism', 'Religion', 'Spirituality'],
  Science: ['Astronomy', 'Chemistry', 'Earth Sciences', 'Life Sciences', 'Mathematics', 'Natural Sciences', 'Nature', 'Physics', 'Social Sciences'],
  'Society & Culture': ['Documentary', 'Personal Journals', 'Philosophy', 'Places & Travel', 'Relationships'],
  Sports: [
    'Baseball',
    'Basketball',
    'Cricket',
    'Fantasy Sports',
    'Football',
    'Golf',
    'Hockey',
    'Rugby',
    'Running',
    'Soccer',
    'Swimming',
    'Tennis',
    'Volleyball',
    'Wilderness',
    'Wrestling',
  ],
  Technology: [],
  'True Crime': [],
  'TV & Film': ['After Shows', 'Film History', 'Film Interviews', 'Film Reviews', 'TV Reviews'],
};

/** True for an audio or video MIME type: what makes an enclosure a podcast episode's media. */
export function isEpisodeMedia(type: string): boolean {
  const major = type.toLowerCase().split('/')[0];
  return major === 'audio' || major === 'video';
}

/**
 * The episode's media: the first audio or video enclosure with a known size (Apple requires the real
 * byte length), or null when the article is not an episode.
 */
export function episodeEnclosure(enclosures: readonly Enclosure[]): Enclosure | null {
  return enclosures.find((e) => isEpisodeMedia(e.type) && e.length > 0) ?? null;
}

/**
 * What stops an article from being an episode of the podcast categories it is filed in: every audio
 * or video enclosure needs its real byte length (Apple: "length = file size in bytes"; 0 is RSS's
 * "unknown", which podcast apps reject). Paths are relative to the article (`enclosures.0.length`).
 * [] when the article is in no podcast category (`podcastSlugs`) or its media lengths are known.
 */
export function podcastEpisodeErrors(article: Pick<NormalizedArticle, 'categories' | 'enclosures'>, podcastSlugs: ReadonlySet<string>): FieldError[] {
  const podcast = article.categories.find((c) => podcastSlugs.has(c.slug));
  if (!podcast) return [];
  const errors: FieldError[] = [];
  article.enclosures.forEach((enclosure, i) => {
    if (isEpisodeMedia(enclosure.type) && !(enclosure.length > 0)) {
      errors.push({
        path: `enclosures.${i}.length`,
        message: `must be the file size in bytes (enclosures[${i}].length > 0): the article is filed in the podcast category '${podcast.slug}', where an audio or video enclosure is an episode`,
      });
    }
  });
  return errors;
}

/** Namespace of podcast:guid (Podcasting 2.0 namespace, tags/guid.md). */
export const PODCAST_GUID_NAMESPACE = 'ead4c236-bf58-58c6-a2c6-a6b28d128cb6';

/**
 * podcast:guid for a feed URL: a UUIDv5 (RFC 9562 §5.5) of the URL without its scheme and trailing
 * slashes, in the Podcasting 2.0 namespace. Depends on the URL only, so it never changes.
 */
export function podcastGuid(feedUrl: string): string {
  const name = feedUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
  return uuidV5(name, PODCAST_GUID_NAMESPACE);
}

function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
