// Old promo banner from the landing page before the redesign. Still imported by the
// marketing pages that have not moved yet.

export interface BannerOptions {
  text: string;
  href: string;
  dismissKey: string;
}

export function shouldShowBanner(options: BannerOptions, storage: Pick<Storage, "getItem">): boolean {
  return storage.getItem(options.dismissKey) !== "1";
}

export function dismissBanner(options: BannerOptions, storage: Pick<Storage, "setItem">): void {
  storage.setItem(options.dismissKey, "1");
}

export function bannerHtml(options: BannerOptions): string {
  const text = options.text.replace(/</g, "&lt;");
  return `<a class="promo-banner" href="${encodeURI(options.href)}">${text}</a>`;
}
