/** Standard base64 of bytes, without Node's Buffer (workerd has none by default). */
export function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Base64 of a string's UTF-8 bytes (btoa alone refuses anything outside Latin-1). */
export const base64Utf8 = (text: string) => base64(new TextEncoder().encode(text));
