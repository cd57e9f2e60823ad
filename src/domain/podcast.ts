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
