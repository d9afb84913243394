#!/usr/bin/env python3
"""Writes the .meta file Unity needs beside every file and folder of the Unity package that lacks one.

Unity ignores assets without a .meta in an immutable (UPM) package. GUIDs are derived from the package-relative path
(md5), so rerunning this changes nothing and two checkouts agree. Folders ending in ~ (Samples~, Documentation~) and
hidden entries are not imported by Unity and get none. Usage: build/unity_metas.py [PACKAGE_DIR]
"""
import hashlib
import os
import sys

PACKAGE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "plugins", "com.sacam.realtime")

TAIL = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
IMPORTERS = {
    ".cs": "MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n" + TAIL,
    ".asmdef": "AssemblyDefinitionImporter:\n  externalObjects: {}\n" + TAIL,
    ".shader": "ShaderImporter:\n  externalObjects: {}\n  defaultTextures: []\n  nonModifiableTextures: []\n" + TAIL,
    ".json": "PackageManifestImporter:\n  externalObjects: {}\n" + TAIL,
    ".md": "TextScriptImporter:\n  externalObjects: {}\n" + TAIL,
}
FOLDER = "folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n" + TAIL


def meta(relative, is_dir):
    guid = hashlib.md5(("com.sacam.realtime/" + relative).encode()).hexdigest()
    body = FOLDER if is_dir else IMPORTERS.get(os.path.splitext(relative)[1], "DefaultImporter:\n  externalObjects: {}\n" + TAIL)
    return f"fileFormatVersion: 2\nguid: {guid}\n{body}"


def walk(directory):
    for name in sorted(os.listdir(directory)):
        if name.startswith(".") or name.endswith("~") or name.endswith(".meta"):
            continue
        path = os.path.join(directory, name)
        relative = os.path.relpath(path, PACKAGE).replace(os.sep, "/")
        if not os.path.exists(path + ".meta"):
            with open(path + ".meta", "w", newline="\n") as f:
                f.write(meta(relative, os.path.isdir(path)))
            print("wrote", relative + ".meta")
        if os.path.isdir(path):
            walk(path)


walk(os.path.abspath(PACKAGE))
