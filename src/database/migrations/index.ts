import { Init1795523676060 } from './1795523676060-Init.js';
import { Sessions1795524212304 } from './1795524212304-Sessions.js';
import { EmailUniqueCaseInsensitive1795527000000 } from './1795527000000-EmailUniqueCaseInsensitive.js';
import { CredentialVersion1796140000000 } from './1796140000000-CredentialVersion.js';
import { EmailTokens1796200000000 } from './1796200000000-EmailTokens.js';
import { Administration1796300000000 } from './1796300000000-Administration.js';

/** Every migration, oldest first; listed explicitly so they load the same from src (tests) and dist. */
export const migrations = [
  Init1795523676060,
  Sessions1795524212304,
  EmailUniqueCaseInsensitive1795527000000,
  CredentialVersion1796140000000,
  EmailTokens1796200000000,
  Administration1796300000000,
];
