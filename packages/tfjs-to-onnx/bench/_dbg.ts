import { convertGraphModelFromDir, resolveModelPackageDir, USE_LITE_PACKAGE } from '../src/index';
try { await convertGraphModelFromDir(resolveModelPackageDir(USE_LITE_PACKAGE, import.meta.url)); } catch (e) { console.log(String(e).slice(0, 300)); }
