"""Reads the Python bindings jsii-pacmak generates, and a Python snippet that uses them, as syntax
trees: importing the bindings would need the jsii runtime and aws-cdk-lib from PyPI, which the
tests cannot reach. Used by test/jsii.test.ts.

    python3 python_api.py <generated __init__.py> [<snippet.py>]

Prints JSON: for every public class its __init__ parameters, methods and properties, and enum
members; for the snippet, which keyword arguments it passes to ProvisionedProductProperties, which
Owner and AcceptLanguage members and which attributes of the construct it uses.
"""
import ast
import json
import sys


def describe_module(path):
    with open(path, encoding="utf8") as f:
        tree = ast.parse(f.read(), path)
    classes = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
            continue
        functions = [f for f in node.body if isinstance(f, ast.FunctionDef)]
        init = next((f for f in functions if f.name == "__init__"), None)
        classes[node.name] = {
            "initParameters": [a.arg for a in init.args.args[1:]] if init else [],
            "initKeywordParameters": [a.arg for a in init.args.kwonlyargs] if init else [],
            "members": sorted({f.name for f in functions if not f.name.startswith("_")}),
            "enumMembers": [
                t.id
                for s in node.body
                if isinstance(s, ast.Assign)
                for t in s.targets
                if isinstance(t, ast.Name)
            ],
        }
    return classes


def describe_snippet(path):
    with open(path, encoding="utf8") as f:
        tree = ast.parse(f.read(), path)
    constructs = set()
    keywords, owner, languages, attributes = set(), set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "ProvisionedProductProperties":
                constructs.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "ProvisionedProductProperties":
            keywords.update(k.arg for k in node.keywords if k.arg)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "Owner":
                owner.add(node.attr)
            elif node.value.id == "AcceptLanguage":
                languages.add(node.attr)
            elif node.value.id in constructs:
                attributes.add(node.attr)
    return {
        "constructKeywords": sorted(keywords),
        "ownerMembers": sorted(owner),
        "acceptLanguageMembers": sorted(languages),
        "constructAttributes": sorted(attributes),
    }


if __name__ == "__main__":
    result = {"module": describe_module(sys.argv[1])}
    if len(sys.argv) > 2:
        result["snippet"] = describe_snippet(sys.argv[2])
    print(json.dumps(result))
