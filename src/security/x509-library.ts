// The one door to @peculiar/x509, the pure-JS library that builds our certificates
// (docs/decisions/0100-certificates-and-identity.md). It resolves its parts through
// tsyringe, which throws at import time unless a Reflect metadata polyfill is loaded
// first; ES modules evaluate their imports in order, so importing the polyfill here,
// before the library, makes that true for every module that imports x509 from this
// file. The library is told to sign with Node's own WebCrypto.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
